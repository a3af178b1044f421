"""Views that show what Django sees of a request behind the proxy.

`whoami` answers JSON with the scheme, host and client address as Django
computes them; `submit` is a CSRF-protected POST target (the Origin check of
Django 4.0+ and the Referer check of 3.2 both depend on the trusted scheme);
`index` is a page with a form posting to `submit`.
"""
import django
from django.core.exceptions import DisallowedHost
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST


def describe(request):
    """What Django makes of this request, as a JSON-ready dict."""
    try:
        host = request.get_host()
    except DisallowedHost as err:
        host = None
        host_error = str(err)
    else:
        host_error = None
    forwarded = {
        key[len('HTTP_'):].replace('_', '-').title(): value
        for key, value in sorted(request.META.items())
        if key.startswith('HTTP_X_FORWARDED_') or key == 'HTTP_FORWARDED'
    }
    return {
        'framework': 'django',
        'django_version': django.get_version(),
        'scheme': request.scheme,
        'is_secure': request.is_secure(),
        'host': host,
        'host_error': host_error,
        'remote_addr': request.META.get('REMOTE_ADDR'),
        'absolute_uri': request.build_absolute_uri() if host else None,
        'origin': request.META.get('HTTP_ORIGIN'),
        'forwarded_headers': forwarded,
    }


@require_GET
def index(request):
    return render(request, 'whoami/index.html', {'seen': describe(request)})


@require_GET
def whoami(request):
    return JsonResponse(describe(request))


@require_POST
def submit(request):
    # CsrfViewMiddleware has already accepted the request when this runs.
    return JsonResponse({'accepted': True, 'message': request.POST.get('message', ''),
                         'seen': describe(request)})
