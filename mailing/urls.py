from django.urls import path

from . import views

app_name = "mailing"

urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("web/<str:token>/", views.web_version, name="web_version"),
    path("senders/confirm/<str:token>/", views.confirm_sender, name="confirm_sender"),
]
