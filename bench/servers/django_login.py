"""Django + djangorestframework-simplejwt for bench/login.ts: tests/fixtures/django/app.py (its settings, URLs and
PostgreSQL database), with the user's password hashed by bcrypt at the kit's cost, as a WSGI app for gunicorn.

Environment: as app.py (PGHOST, PGPORT, PGDATABASE, SIGNING_KEY), plus BENCH_USERNAME, BENCH_PASSWORD and
BENCH_BCRYPT_ROUNDS.
    python3 django_login.py setup          # migrate, then the bench user with a bcrypt hash at that cost
    gunicorn -w 2 django_login:application
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tests', 'fixtures', 'django'))

import app  # noqa: E402,F401  (configures Django and calls django.setup())
from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import BCryptPasswordHasher  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402


class BenchBCryptPasswordHasher(BCryptPasswordHasher):
    """Django's raw bcrypt hasher (`bcrypt$$2b$...`, the python3-bcrypt C code) at the bench's cost."""

    rounds = int(os.environ.get('BENCH_BCRYPT_ROUNDS', '10'))


# Read on first use by get_hashers(), so setting it after django.setup() is enough.
settings.PASSWORD_HASHERS = [f'{__name__}.BenchBCryptPasswordHasher']
application = get_wsgi_application()

if __name__ == '__main__' and sys.argv[1:] == ['setup']:
    from django.contrib.auth.models import User
    from django.core.management import call_command

    call_command('migrate', verbosity=0)
    User.objects.filter(username=os.environ['BENCH_USERNAME']).delete()
    User.objects.create_user(username=os.environ['BENCH_USERNAME'], password=os.environ['BENCH_PASSWORD'])
