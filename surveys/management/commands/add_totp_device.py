"""``python manage.py add_totp_device USERNAME``: a second factor for a staff member.

Prints the otpauth:// link and its QR code (scan it with an authenticator app); where the site
requires a second factor (production), the staff member logs in with a code from that app."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Give a staff member a TOTP device (an authenticator app) and print its QR code."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="Authenticator-app", help="What the device is called in the admin.")

    def handle(self, *args, username: str, name: str, **options):
        import segno

        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"Unknown user {username!r}.")
        device = TOTPDevice.objects.create(user=user, name=name, confirmed=True)
        self.stdout.write(f"TOTP device {device.name!r} for {username}. Scan this with an authenticator app:")
        self.stdout.write(device.config_url)
        segno.make(device.config_url, error="m").terminal(out=self.stdout, compact=True)
