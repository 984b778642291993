"""Writes on click-and-collect: keyword-only services named <noun>_<verb>.

- release: ``slots_release_due`` (beat) writes and opens the slots of days
  whose release instant passed, once per store and day;
- slots: ``slot_book``, ``slot_hold_create`` / ``_consume`` / ``_release``,
  ``holds_expire_due``, ``slot_unit_return`` (guarded counters);
- orders: ``order_place`` (slot, stock, rows, events in one transaction);
- lifecycle: ``order_transition``, ``orders_mark_no_show``;
- schedules: ``slot_schedule_set``, ``slot_exception_set`` / ``_delete``,
  ``pickup_slot_update``."""
