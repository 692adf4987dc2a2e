from django.urls import path, re_path

from catalog import views

urlpatterns = [
    path("products", views.ProductListView.as_view(), name="product-list"),
    path("products/sync", views.ProductSyncView.as_view(), name="product-sync"),
    path("products/<int:product_id>", views.ProductDetailView.as_view(), name="product-detail"),
    path("categories", views.CategoryListView.as_view(), name="category-list"),
    re_path(r"^cj/product/(?P<cj_pid>[A-Za-z0-9_-]{1,64})$", views.CJProductView.as_view(), name="cj-product"),
    path("cj/stock", views.CJStockView.as_view(), name="cj-stock"),
]
