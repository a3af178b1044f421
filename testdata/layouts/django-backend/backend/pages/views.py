from django.conf import settings
from django.http import HttpResponse


def index(request):
    return HttpResponse(f"layout django-backend {settings.GREETING}\n", content_type="text/plain")
