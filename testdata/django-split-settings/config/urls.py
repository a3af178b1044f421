from django.http import HttpResponse
from django.urls import path


def home(request):
    return HttpResponse(f"{request.scheme}://{request.get_host()}\n", content_type="text/plain")


urlpatterns = [path("", home)]
