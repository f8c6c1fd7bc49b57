from django.core.management.base import BaseCommand, CommandError

from surveys.api.models import ApiKey
from surveys.organisations.models import Organisation


class Command(BaseCommand):
    help = "Maakt een API-sleutel voor een organisatie en toont die één keer (alleen de hash wordt bewaard)."

    def add_arguments(self, parser):
        parser.add_argument("organisation", help="De slug van de organisatie, bijvoorbeeld stichtse-vecht.")
        parser.add_argument("--name", default="", help="Waarvoor de sleutel is, bijvoorbeeld 'telefonie'.")

    def handle(self, *args, organisation, name, **options):
        found = Organisation.objects.filter(slug=organisation).first()
        if found is None:
            known = ", ".join(Organisation.objects.values_list("slug", flat=True)[:20]) or "-"
            raise CommandError(f"Organisatie '{organisation}' bestaat niet. Bekend: {known}.")
        api_key, key = ApiKey.objects.create_key(organisation=found, name=name[:100])
        self.stderr.write(
            f"API-sleutel {api_key.prefix} voor {found.name} aangemaakt. Bewaar hem nu; hij wordt niet opnieuw getoond."
        )
        self.stdout.write(key)
