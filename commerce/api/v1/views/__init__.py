"""Views of click-and-collect, one module per resource family."""
