"""mysite URL Configuration

The `urlpatterns` list routes URLs to views. For more information please see:
    https://docs.djangoproject.com/en/3.2/topics/http/urls/
"""
from django.contrib import admin
from django.urls import path

from whoami import views

urlpatterns = [
    path('', views.index, name='index'),
    path('whoami/', views.whoami, name='whoami'),
    path('submit/', views.submit, name='submit'),
    path('admin/', admin.site.urls),
]
