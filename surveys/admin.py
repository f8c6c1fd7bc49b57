from django.contrib import admin

from .models import Organisation, OrganisationChannel, Response, Survey, SurveyVersion

admin.site.register(Organisation)
admin.site.register(OrganisationChannel)
admin.site.register(Survey)
admin.site.register(SurveyVersion)
admin.site.register(Response)
