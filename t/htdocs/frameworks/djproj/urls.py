from django.urls import path

from djproj import views

urlpatterns = [
    path('', views.index),
    path('hello/<str:name>/', views.hello, name='hello'),
    path('link/', views.link),
    path('form/', views.form),
    path('json/', views.json_double),
]
