from django.apps import AppConfig


class ZaphooksConfig(AppConfig):
    name = "zaphooks"
