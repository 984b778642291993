"""Domain errors of cross-sell and upsell, each with a stable code (the
problem type is ``/problems/<code-with-dashes>``). They live beside the
feature rather than in ``commerce/errors.py`` so that the feature is one
package; defining one registers its code all the same."""

from django.utils.translation import gettext_lazy as _

from gateway.api.problems import ProblemError


class RelationExists(ProblemError):
    status_code = 409
    code = "relation_exists"
    title = _("This relation already exists")


class RebuildNotFound(ProblemError):
    status_code = 404
    code = "not_found"
    default_detail = _("No such object, or not visible to you.")
