from django.apps import AppConfig


class WhoamiConfig(AppConfig):
    default_auto_field = 'django.db.models.BigAutoField'
    name = 'whoami'
