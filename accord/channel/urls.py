"""Pages of accord.channel: the product catalogue and the sales-line drill-down."""

from django.urls import path

from accord.channel import views

app_name = "channel"
urlpatterns = [
    path("products/", views.product_list, name="product_list"),
    path("sales/", views.sales_list, name="sales_list"),
]
