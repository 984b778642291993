"""Loyalty routes under /api/v1/loyalty/."""

from django.urls import URLPattern, URLResolver, path, register_converter

from loyalty.api.v1 import analytics, tickets, views


class CardNumberConverter:
    """Thirteen digits; anything else is an ordinary 404 before a view runs."""

    regex = r"[0-9]{13}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CardNumberConverter, "card")


class TicketReferenceConverter:
    """A store code or a ticket id: letters, digits, '.', '_' and '-'."""

    regex = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(TicketReferenceConverter, "ticketref")

urlpatterns: list[URLPattern | URLResolver] = [
    path("loyalty/programs", views.ProgramListView.as_view(), name="loyalty-program-list"),
    path("loyalty/campaigns", views.CampaignListView.as_view(), name="loyalty-campaign-list"),
    path("loyalty/campaigns/<int:campaign_id>", views.CampaignDetailView.as_view(), name="loyalty-campaign-detail"),
    path("loyalty/campaigns/<int:campaign_id>/state", views.CampaignStateView.as_view(), name="loyalty-campaign-state"),
    path("loyalty/campaigns/<int:campaign_id>/codes", views.PublicCodeView.as_view(), name="loyalty-campaign-codes"),
    path(
        "loyalty/campaigns/<int:campaign_id>/code-jobs",
        views.CodeJobCreateView.as_view(),
        name="loyalty-campaign-code-jobs",
    ),
    path("loyalty/code-jobs/<int:job_id>", views.CodeJobDetailView.as_view(), name="loyalty-code-job-detail"),
    path("loyalty/members", views.MemberListView.as_view(), name="loyalty-member-list"),
    path("loyalty/members/<card:card_number>", views.MemberDetailView.as_view(), name="loyalty-member-detail"),
    path("loyalty/me", views.MeView.as_view(), name="loyalty-me"),
    path("loyalty/me/movements", views.MeMovementsView.as_view(), name="loyalty-me-movements"),
    path("loyalty/me/coupons", views.MeCouponsView.as_view(), name="loyalty-me-coupons"),
    path("loyalty/quote", views.QuoteView.as_view(), name="loyalty-quote"),
    path("loyalty/tickets", tickets.TicketCreateView.as_view(), name="loyalty-ticket-list"),
    path(
        "loyalty/tickets/<ticketref:store>/<ticketref:ticket_id>",
        tickets.TicketDetailView.as_view(),
        name="loyalty-ticket-detail",
    ),
    path(
        "loyalty/tickets/<ticketref:store>/<ticketref:ticket_id>/returns",
        tickets.TicketReturnView.as_view(),
        name="loyalty-ticket-returns",
    ),
    path("loyalty/slow-movers", analytics.SlowMoversView.as_view(), name="loyalty-slow-movers"),
    path(
        "loyalty/slow-movers/campaigns",
        analytics.SlowMoverCampaignView.as_view(),
        name="loyalty-slow-mover-campaigns",
    ),
    path(
        "loyalty/campaigns/<int:campaign_id>/report",
        analytics.CampaignReportView.as_view(),
        name="loyalty-campaign-report",
    ),
    path("loyalty/analytics", analytics.AnalyticsView.as_view(), name="loyalty-analytics"),
]
