from django.urls import path

from . import tracking_views, views

app_name = "mailing"

urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("t/o/<str:token>/", tracking_views.open_pixel, name="open"),
    path("t/c/<str:token>/<int:link_id>/", tracking_views.click, name="click"),
    path("web/<str:token>/", views.web_version, name="web_version"),
    path("senders/confirm/<str:token>/", views.confirm_sender, name="confirm_sender"),
]
