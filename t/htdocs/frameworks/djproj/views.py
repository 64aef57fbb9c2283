import json

from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt


def index(request):
    return HttpResponse('django index', content_type='text/plain')


def hello(request, name):
    return HttpResponse('Hello, %s!' % name, content_type='text/plain')


def link(request):
    return HttpResponse(reverse('hello', args=['wsgi']),
                        content_type='text/plain')


@csrf_exempt
def form(request):
    if request.method != 'POST':
        return HttpResponse(status=405)
    return HttpResponse('form a=%s b=%s' % (request.POST['a'],
                                            request.POST['b']),
                        content_type='text/plain')


@csrf_exempt
def json_double(request):
    data = json.loads(request.body)
    return JsonResponse({'doubled': data['x'] * 2})
