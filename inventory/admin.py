from django.contrib import admin

from inventory.models import ClientLocation, Location


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin[Location]):
    list_display = ("code", "name", "kind", "owner", "city", "time_zone", "click_and_collect", "is_active")
    list_filter = ("kind", "click_and_collect", "is_active")
    search_fields = ("code", "name", "city")


@admin.register(ClientLocation)
class ClientLocationAdmin(admin.ModelAdmin[ClientLocation]):
    list_display = ("client", "location")
