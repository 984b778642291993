"""Input and output shapes of the inventory API (interface only: rules live
in inventory.services and inventory.selectors)."""

from decimal import Decimal
from typing import Any, ClassVar

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import Direction, extend_schema_field
from rest_framework import serializers

from gateway.api.money import MoneySerializer, money
from gateway.api.strict import (
    DecimalStringField,
    MoneyInput,
    StrictBooleanField,
    StrictCharField,
    StrictInput,
    StrictIntegerField,
    StrictRegexField,
    StrictSlugField,
)
from inventory.models import (
    Location,
    LocationKind,
    MovementReason,
    Product,
    StockLevel,
    iana_time_zones,
    validate_gtin,
    validate_opening_hours,
)
from inventory.selectors.availability import Availability, AvailableAt
from inventory.services import MAX_QUANTITY
from inventory.services.changes import LINE_STATUSES
from inventory.services.sync import SYNC_LINE, SYNC_REQUEST
from inventory.specs import Items, Record

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
LOCATION_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"
# The network sells in euros; a product priced in another currency could not
# be put in a basket next to the others.
CATALOG_CURRENCIES = ("EUR",)


def _model_validator(validator: Any) -> Any:
    """A model-level validator (Django ValidationError) as a DRF one."""

    def run(value: Any) -> None:
        from django.core.exceptions import ValidationError

        try:
            validator(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages[0], code=exc.code or "invalid") from None

    return run


# ---------------------------------------------------------------- products


class ProductPriceInput(MoneyInput):
    amount = DecimalStringField(max_digits=12, decimal_places=2, min_value=Decimal("0"), help_text="At least 0.")

    def validate_currency(self, value: str) -> str:
        if value not in CATALOG_CURRENCIES:
            raise serializers.ValidationError(
                _("The network sells in %(currencies)s.") % {"currencies": ", ".join(CATALOG_CURRENCIES)},
                code="unsupported_currency",
            )
        return value


class ProductWriteFields(StrictInput):
    gtin = StrictCharField(
        max_length=14,
        allow_blank=True,
        required=False,
        validators=[_model_validator(validate_gtin)],
        help_text="GTIN-8, -12, -13 or -14; the check digit is verified.",
    )
    brand = StrictCharField(max_length=120, allow_blank=True, required=False)
    category = StrictCharField(max_length=120, allow_blank=True, required=False)
    price = ProductPriceInput()
    name_fr = StrictCharField(max_length=255)
    name_en = StrictCharField(max_length=255, allow_blank=True, required=False)
    description_fr = StrictCharField(max_length=5000, allow_blank=True, required=False, multiline=True)
    description_en = StrictCharField(max_length=5000, allow_blank=True, required=False, multiline=True)
    is_active = StrictBooleanField(required=False)

    def validate_price(self, value: dict[str, Any]) -> dict[str, Any]:
        if "amount" not in value or "currency" not in value:  # a PATCH still sends the whole price
            raise serializers.ValidationError(_("A price has an amount and a currency."), code="required")
        return value

    @staticmethod
    def model_fields(validated: dict[str, Any]) -> dict[str, Any]:
        """Validated data as Product field values."""
        data = dict(validated)
        price = data.pop("price", None)
        if price is not None:
            data["price_amount"], data["price_currency"] = price["amount"], price["currency"]
        return data


class ProductCreateInput(ProductWriteFields):
    sku = StrictRegexField(
        SKU_PATTERN, help_text="Unique per owner: letters, digits, '.', '_' and '-' (at most 64); never changes."
    )
    owner = StrictSlugField(
        required=False,
        allow_null=True,
        help_text="Operator only: the partner (slug) the product belongs to; absent or null for the retailer. "
        "A partner's products are always its own.",
    )


class ProductUpdateInput(ProductWriteFields):
    """Every field optional (PATCH); ``sku`` and ``owner`` never change."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


def _language_is_en() -> bool:
    return (get_language() or "fr").startswith("en")


class ProductOutput(serializers.ModelSerializer[Product]):
    name = serializers.SerializerMethodField(help_text="In the language served (Content-Language).")
    description = serializers.SerializerMethodField(help_text="In the language served (Content-Language).")
    price = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField(help_text="The partner's slug, or null for the retailer's products.")

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "gtin",
            "brand",
            "category",
            "name",
            "description",
            "name_fr",
            "name_en",
            "description_fr",
            "description_en",
            "price",
            "owner",
            "is_active",
            "version",
            "created_at",
            "updated_at",
        ]

    def get_name(self, product: Product) -> str:
        return product.name_en if _language_is_en() and product.name_en else product.name_fr

    def get_description(self, product: Product) -> str:
        return product.description_en if _language_is_en() and product.description_en else product.description_fr

    @extend_schema_field(MoneySerializer)
    def get_price(self, product: Product) -> dict[str, str]:
        return money(product.price_amount, product.price_currency)

    def get_owner(self, product: Product) -> str | None:
        return product.owner.slug if product.owner is not None else None


# ---------------------------------------------------------------- locations


class LocationWriteFields(StrictInput):
    name = StrictCharField(max_length=200)
    address = StrictCharField(max_length=300, allow_blank=True, required=False)
    city = StrictCharField(max_length=120, allow_blank=True, required=False)
    postal_code = StrictCharField(max_length=20, allow_blank=True, required=False)
    country = StrictRegexField(r"^[A-Z]{2}$", required=False, help_text="ISO 3166-1 alpha-2.")
    subdivision = StrictCharField(
        max_length=10,
        allow_blank=True,
        required=False,
        help_text='Region for public holidays: the ISO 3166-2 code after the dash ("CA" for California, '
        '"57" for Moselle), as known to the holiday calendar of the country; blank for national holidays only.',
    )
    latitude = DecimalStringField(
        max_digits=9, decimal_places=6, min_value=Decimal(-90), max_value=Decimal(90), required=False, allow_null=True
    )
    longitude = DecimalStringField(
        max_digits=9,
        decimal_places=6,
        min_value=Decimal(-180),
        max_value=Decimal(180),
        required=False,
        allow_null=True,
    )
    time_zone = StrictCharField(max_length=64, required=False, help_text="IANA zone, e.g. Europe/Paris.")
    opening_hours = serializers.JSONField(
        required=False,
        validators=[_model_validator(validate_opening_hours)],
        help_text='Store-local hours per ISO weekday 1-7, e.g. {"1": [["08:30", "20:30"]]}; a missing day is closed.',
    )
    click_and_collect = StrictBooleanField(required=False)
    lead_time_days = StrictIntegerField(
        min_value=0, max_value=365, required=False, help_text="For partner locations: days to deliver into a store."
    )
    is_active = StrictBooleanField(required=False)

    def validate_time_zone(self, value: str) -> str:
        if value not in iana_time_zones():
            raise serializers.ValidationError(_("Not an IANA time zone."), code="invalid_time_zone")
        return value


class LocationCreateInput(LocationWriteFields):
    code = StrictRegexField(
        LOCATION_CODE_PATTERN, help_text="Unique network-wide: letters, digits, '.', '_' and '-' (at most 40)."
    )
    kind = serializers.ChoiceField(
        choices=LocationKind.choices, help_text="Partners create warehouses and partner stores only."
    )
    owner = StrictSlugField(
        required=False, allow_null=True, help_text="Operator only: the owning partner's slug (null: the retailer)."
    )


class LocationUpdateInput(LocationWriteFields):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class LocationOutput(serializers.ModelSerializer[Location]):
    owner = serializers.SerializerMethodField(help_text="The partner's slug, or null for the retailer's locations.")
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)

    class Meta:
        model = Location
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "owner",
            "address",
            "city",
            "postal_code",
            "country",
            "subdivision",
            "latitude",
            "longitude",
            "time_zone",
            "opening_hours",
            "click_and_collect",
            "lead_time_days",
            "is_active",
            "version",
            "created_at",
            "updated_at",
        ]

    def get_owner(self, location: Location) -> str | None:
        return location.owner.slug if location.owner is not None else None


# ---------------------------------------------------------------- stock


class StockLevelOutput(serializers.ModelSerializer[StockLevel]):
    sku = serializers.CharField(source="product.sku")
    product_id = serializers.IntegerField()
    location = serializers.CharField(source="location.code")

    class Meta:
        model = StockLevel
        fields = ["sku", "product_id", "location", "on_hand", "reserved", "available", "version", "updated_at"]


class StockSetInput(StrictInput):
    on_hand = StrictIntegerField(min_value=0, max_value=MAX_QUANTITY)
    expected_on_hand = StrictIntegerField(
        min_value=0,
        max_value=MAX_QUANTITY,
        required=False,
        help_text="Compare-and-swap: the on-hand figure this set replaces (0 for a level not held yet); "
        "412 when it differs. Send this or If-Match.",
    )
    reference = StrictCharField(max_length=120, allow_blank=True, required=False)


ADJUSTMENT_REASONS = (MovementReason.ADJUSTMENT, MovementReason.SALE, MovementReason.RETURN)


class StockAdjustInput(StrictInput):
    delta = StrictIntegerField(
        min_value=-MAX_QUANTITY, max_value=MAX_QUANTITY, help_text="Signed change of on hand; not 0."
    )
    reason = serializers.ChoiceField(
        choices=[(r.value, r.label) for r in ADJUSTMENT_REASONS],
        help_text="adjustment (a count correction, either sign), sale (a till sale, negative) "
        "or return (a customer return, positive).",
    )
    reference = StrictCharField(max_length=120, allow_blank=True, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        delta, reason = attrs["delta"], attrs["reason"]
        if delta == 0:
            raise serializers.ValidationError({"delta": [_("A change of 0 changes nothing.")]}, code="invalid")
        if (reason == MovementReason.SALE and delta > 0) or (reason == MovementReason.RETURN and delta < 0):
            raise serializers.ValidationError(
                {"delta": [_("A sale takes stock out (negative); a return puts it back (positive).")]},
                code="invalid",
            )
        return attrs


# ---------------------------------------------------------------- bulk sync (the bodies are declared once in
# inventory.services.sync with inventory.specs rules, which the view and the service check; these classes only
# carry them into the schema, through SpecSchema below: a serializer per line is too slow for 5,000 lines)


class SpecDocument(serializers.Serializer[Any]):
    """Documentation only: the OpenAPI component of a body declared as an
    inventory.specs Record (``spec``). Never validates anything."""

    documentation_only: ClassVar[bool] = True
    spec: ClassVar[Record]
    _by_spec: ClassVar[dict[int, type["SpecDocument"]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        SpecDocument._by_spec[id(cls.spec)] = cls


class SpecSchema(OpenApiSerializerExtension):
    """Writes a SpecDocument's component from its Record; a list of records
    that have a document of their own refers to that component."""

    target_class = SpecDocument
    match_subclasses = True

    def map_serializer(self, auto_schema: AutoSchema, direction: Direction) -> dict[str, Any]:
        record: Record = self.target.spec
        nested = {}
        for name, rule in record.fields.items():
            document = SpecDocument._by_spec.get(id(rule.item)) if isinstance(rule, Items) else None
            if isinstance(rule, Items) and document is not None:
                nested[name] = rule.schema(auto_schema.resolve_serializer(document, direction).ref)
        return record.schema(**nested)


class StockSyncLineInput(SpecDocument):
    spec = SYNC_LINE


class StockSyncInput(SpecDocument):
    spec = SYNC_REQUEST


class StockSyncLineResult(serializers.Serializer[Any]):
    index = serializers.IntegerField(help_text="Position of the line in the request.")
    status = serializers.ChoiceField(choices=list(LINE_STATUSES))
    on_hand = serializers.IntegerField(required=False)
    reserved = serializers.IntegerField(required=False)
    available = serializers.IntegerField(required=False)
    version = serializers.IntegerField(required=False)
    code = serializers.CharField(required=False, help_text="Why a failed line failed.")
    field = serializers.CharField(required=False)
    message = serializers.CharField(required=False)


class StockSyncOutput(serializers.Serializer[Any]):
    error_policy = serializers.CharField()
    applied = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    failed = serializers.IntegerField()
    results = StockSyncLineResult(many=True)


# ---------------------------------------------------------------- availability (availability_output below writes
# plain dicts for speed, the hottest read; these serializers describe them in the schema, and
# tests/inventory/test_specs.py checks answers of both modes against that schema)


class AvailabilityLocationOutput(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=LocationKind.choices)
    source = serializers.ChoiceField(  # type: ignore[assignment]  # a field named "source", not Field.source
        choices=["store", "supply"],
        required=False,
        help_text="Store mode: `store` (the store's own stock) or `supply` (a warehouse or partner store).",
    )
    distance_km = serializers.FloatField(required=False, help_text="Near mode: great-circle distance.")
    available = serializers.IntegerField(
        help_text="Available units; others' figures above `quantity_cap` show as the cap."
    )
    lead_time_days = serializers.IntegerField(required=False)
    available_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Store mode: the store-local day the units can be collected there (supply: the location's lead "
        "time from today in the store's time zone, moved to the next day the store opens).",
    )


class AvailabilityProductOutput(serializers.Serializer[Any]):
    sku = serializers.CharField()
    product_id = serializers.IntegerField()
    name = serializers.CharField(help_text="In the language served.")
    locations = AvailabilityLocationOutput(many=True)


class AvailabilityNearOutput(serializers.Serializer[Any]):
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    radius_km = serializers.FloatField()


class AvailabilityStoreOutput(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    time_zone = serializers.CharField()
    local_date = serializers.DateField(help_text="Today in the store's time zone (at `at`).")


class AvailabilityOutput(serializers.Serializer[Any]):
    mode = serializers.ChoiceField(choices=["near", "store"])
    near = AvailabilityNearOutput(allow_null=True)
    store = AvailabilityStoreOutput(allow_null=True)
    quantity_cap = serializers.IntegerField(
        allow_null=True, help_text="Figures of others above this are shown as this; null: exact figures."
    )
    results = AvailabilityProductOutput(many=True)
    unknown_skus = serializers.ListField(child=serializers.CharField(), help_text="SKUs of no active product.")


def availability_output(answer: Availability) -> dict[str, Any]:
    """The body of GET /availability (AvailabilityOutput) from the selector's
    data, written as plain dicts: a serializer per location would cost more
    than the lookup's SQL on the hottest read. Names are in the language
    served; dates are ISO text."""
    english = _language_is_en()
    store = answer.store
    return {
        "mode": "store" if store is not None else "near",
        "near": (
            None
            if answer.near is None
            else {"latitude": answer.near[0], "longitude": answer.near[1], "radius_km": answer.near[2]}
        ),
        "store": (
            None
            if store is None or answer.local_date is None
            else {
                "code": store.code,
                "name": store.name,
                "time_zone": store.time_zone,
                "local_date": answer.local_date.isoformat(),
            }
        ),
        "quantity_cap": answer.quantity_cap,
        "results": [
            {
                "sku": product.sku,
                "product_id": product.product_id,
                "name": product.name_en if english and product.name_en else product.name_fr,
                "locations": [
                    _near_location(at) if at.source is None else _store_location(at) for at in product.locations
                ],
            }
            for product in answer.products
        ],
        "unknown_skus": answer.unknown_skus,
    }


def _near_location(at: AvailableAt) -> dict[str, Any]:
    return {"code": at.code, "name": at.name, "kind": at.kind, "distance_km": at.distance_km, "available": at.available}


def _store_location(at: AvailableAt) -> dict[str, Any]:
    return {
        "code": at.code,
        "name": at.name,
        "kind": at.kind,
        "source": at.source,
        "available": at.available,
        "lead_time_days": at.lead_time_days,
        "available_on": at.available_on.isoformat() if at.available_on is not None else None,
    }
