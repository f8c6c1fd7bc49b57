"""Sending invitations: the SMS/WhatsApp gateways, the messages themselves and their admin."""
