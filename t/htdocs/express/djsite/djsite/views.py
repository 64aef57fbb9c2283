from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse


def index(request):
    return HttpResponse('django index via express, static at '
                        + settings.STATIC_URL, content_type='text/plain')


def hello(request, name):
    return HttpResponse(f'Hello, {name}! ({reverse("hello", args=["x"])})',
                        content_type='text/plain')
