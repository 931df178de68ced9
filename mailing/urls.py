from django.urls import path

from . import subscribe_views, tracking_views, views

app_name = "mailing"

urlpatterns = [
    path(
        "unsubscribe/list/<str:token>/",
        views.unsubscribe_list,
        name="unsubscribe_list",
    ),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("t/o/<str:token>/", tracking_views.open_pixel, name="open"),
    path("t/c/<str:token>/<int:link_id>/", tracking_views.click, name="click"),
    path("web/<str:token>/", views.web_version, name="web_version"),
    path("subscribe/<str:token>/", subscribe_views.subscribe_view, name="subscribe"),
    path(
        "subscribe/confirm/<str:token>/",
        subscribe_views.confirm_subscription,
        name="confirm_subscription",
    ),
    path("senders/confirm/<str:token>/", views.confirm_sender, name="confirm_sender"),
]
