# The Django side of "Running next to Django" (docs/django.md): the settings.py lines that must agree with the
# kit's options. Merge them into your project's settings.py; the comments name the kit's option for each value.
import os
from datetime import timedelta

INSTALLED_APPS = [
    # ... your apps ...
    'rest_framework',
    'rest_framework_simplejwt.token_blacklist',  # the blacklist tables the kit shares (simplejwtTables: true)
]

DATABASES = {
    # The database the kit's PostgresStore connects to (DATABASE_URL on the Node side).
    'default': {
        'ENGINE': 'django.db.backends.postgresql',
        'HOST': os.environ.get('PGHOST', 'localhost'),
        'PORT': os.environ.get('PGPORT', '5432'),
        'NAME': os.environ.get('PGDATABASE', 'app'),
        'USER': os.environ.get('PGUSER', 'app'),
        'PASSWORD': os.environ.get('PGPASSWORD', ''),
    }
}

SIMPLE_JWT = {
    # A dedicated key, not Django's SECRET_KEY: the Node side then holds no key that signs Django's sessions.
    'SIGNING_KEY': os.environ['JWT_SECRET'],  # secret (the same JWT_SECRET on both sides)
    'ALGORITHM': 'HS256',  # algorithm
    'ACCESS_TOKEN_LIFETIME': timedelta(minutes=5),  # accessTokenLifetime: '5m'
    'REFRESH_TOKEN_LIFETIME': timedelta(days=1),  # refreshTokenLifetime: '1d'
    'ROTATE_REFRESH_TOKENS': True,  # rotateRefreshTokens: true
    'BLACKLIST_AFTER_ROTATION': True,  # blacklistAfterRotation: true (the kit's default; Django's is False)
    'USER_ID_FIELD': 'id',  # getUserId (default user.id)
    'USER_ID_CLAIM': 'user_id',  # userIdClaim
    'TOKEN_TYPE_CLAIM': 'token_type',  # tokenTypeClaim
    'JTI_CLAIM': 'jti',  # jtiClaim
    'AUDIENCE': None,  # audience
    'ISSUER': None,  # issuer
    'LEEWAY': 0,  # leeway
    'AUTH_HEADER_TYPES': ('Bearer',),  # authHeaderTypes
    'CHECK_REVOKE_TOKEN': False,  # off while both sides are live: each refuses the other's password claim
}
