from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.SignupView.as_view(), name="signup"),
    path("signup/done/", views.SignupDoneView.as_view(), name="signup_done"),
    path("verify/<str:token>/", views.FinishSignupView.as_view(), name="verify_email"),
    path(
        "verify-resend/",
        views.ResendVerificationView.as_view(),
        name="resend_verification",
    ),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/done/",
        views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/complete/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("profile/", views.profile, name="profile"),
    path(
        "profile/password/",
        views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path("profile/email/", views.change_email, name="change_email"),
    path(
        "email/confirm/<str:token>/",
        views.confirm_email_change,
        name="confirm_email_change",
    ),
]
