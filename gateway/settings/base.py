"""Settings shared by every environment. Everything that differs between
machines comes from the environment, with safe local defaults."""

import os
from pathlib import Path

import dj_database_url
import django_stubs_ext
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _
from kombu import Queue

# Lets admin and generic views be subscripted for the type checker at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    return env(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


SECRET_KEY = env("SECRET_KEY", "local-development-only-not-secret-key-0123456789abcdefghijklmnop")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "oauth2_provider",
    "gateway.api",
    "partners",
    "inventory",
    "loyalty",
    "commerce",
    "footfall",
]

MIDDLEWARE = [
    "gateway.api.middleware.RequestIdMiddleware",
    "gateway.api.admission.AdmissionMiddleware",
    "gateway.api.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "gateway.api.browser.BrowserSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "gateway.api.browser.BrowserAuthenticationMiddleware",
    "gateway.api.browser.BrowserMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "gateway.api.middleware.ProblemMiddleware",
]

ROOT_URLCONF = "gateway.urls"
WSGI_APPLICATION = "gateway.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "gateway" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# PostgreSQL through psycopg 3 with Django's bounded connection pool: each web
# worker process keeps at most DB_POOL_MAX connections, so workers x pool stays
# well under max_connections (an unbounded thread count exhausted it in our runs).
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", "postgres://gateway:gateway@127.0.0.1:15432/gateway"),
        conn_max_age=0,
    )
}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
# With the pool, Django's health checks become the pool's check
# (psycopg_pool's check_connection, an empty query before each loan). Without
# it psycopg_pool lends an idle connection without looking at it, and one that
# PostgreSQL dropped (a restart, a failover, an idle timeout) failed the
# request that got it: after a restart each stale connection gave one 500, up
# to 18 s later, even on an idle server (Black Friday issue, defect 3). A dead
# connection is now thrown away and another lent (tests/gateway/test_db_pool.py).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["OPTIONS"] = {
    "pool": {
        "min_size": int(env("DB_POOL_MIN", "1")),
        "max_size": int(env("DB_POOL_MAX", "8")),
        "timeout": float(env("DB_POOL_TIMEOUT", "10")),
    },
    # Parameters travel apart from the SQL (no quoting in Python), and a
    # statement a pooled connection has run DB_PREPARE_THRESHOLD times is
    # prepared: PostgreSQL stops parsing and planning it on every call.
    # Measured on the order POST (17 statements, 2 cores): PostgreSQL CPU
    # 3.0 -> 1.6 ms per order. Django leaves both off for poolers such as
    # pgbouncer in transaction mode, which this deployment does not use.
    # psycopg forgets (and deallocates) all of a connection's prepared
    # statements on any ROLLBACK, ROLLBACK TO SAVEPOINT included, and then
    # parses and plans each of them again at least ten times. So answers that
    # wrote nothing leave their transaction or savepoint normally and raise
    # after it (gateway/transactions.py: slot refusals, an Idempotency-Key in
    # progress or reused). Measured on the midnight bench,
    # where a third of the order requests are refused: PostgreSQL spent a
    # quarter of its CPU planning; 4.5 -> 2.1-2.7 ms of PostgreSQL CPU per order.
    "server_side_binding": env_bool("DB_SERVER_SIDE_BINDING", True),
    "prepare_threshold": int(env("DB_PREPARE_THRESHOLD", "5")) if env("DB_PREPARE_THRESHOLD", "5") else None,
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:16379/0")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"

# Language: French by default, English on request (docs/api-guide.md, Language).
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# Request bodies are capped; bulk endpoints state their own batch limits.
# 5,000 stock lines of about 120 bytes fit in well under 2 MiB.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(env("MAX_REQUEST_BODY_BYTES", str(4 * 1024 * 1024)))
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# ---------------------------------------------------------------- API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["gateway.api.auth.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["gateway.api.scopes.HasRequiredScopes"],
    "DEFAULT_THROTTLE_CLASSES": ["gateway.api.ratelimit.ClientRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["gateway.api.renderers.GatewayJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["gateway.api.parsers.GatewayJSONParser"],
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.NamespaceVersioning",
    "ALLOWED_VERSIONS": ["v1"],
    "DEFAULT_PAGINATION_CLASS": "gateway.api.pagination.GatewayCursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "gateway.api.errors.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "gateway.api.schema.GatewayAutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
    "UNAUTHENTICATED_USER": None,
}

# ---------------------------------------------------------------- OAuth 2.0
OAUTH2_PROVIDER_APPLICATION_MODEL = "partners.ApiClient"
SCOPES = {
    "catalog:read": "Read products and the catalogue",
    "inventory:read": "Read stock levels and availability",
    "inventory:write": "Change products, locations and stock",
    "orders:read": "Read orders",
    "orders:write": "Place and cancel orders",
    "orders:fulfil": "Prepare, hand over and cancel orders in a store",
    "loyalty:read": "Read loyalty accounts and coupons",
    "loyalty:redeem": "Redeem coupons",
    "loyalty:manage": "Manage loyalty campaigns",
    "footfall:ingest": "Send people-counter data",
    "footfall:read": "Read footfall analytics",
    "partners:manage": "Manage the partner's own profile and API clients",
    "webhooks:manage": "Manage webhook subscriptions",
}
OAUTH2_PROVIDER = {
    "SCOPES": SCOPES,
    "DEFAULT_SCOPES": [],
    "SCOPES_BACKEND_CLASS": "partners.oauth.ApiClientScopes",
    "OAUTH2_VALIDATOR_CLASS": "partners.oauth.GatewayOAuth2Validator",
    # RFC 9700: short access tokens, rotating refresh tokens with reuse detection.
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(env("ACCESS_TOKEN_EXPIRE_SECONDS", "900")),
    "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # No grace period: a grace period needs plaintext token storage, and tokens
    # are stored hashed (COMPLIANT_BCP_RFC9700_TOKEN_STORAGE).
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "PKCE_REQUIRED": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "ALLOWED_SCHEMES": ["https"],
    "ALLOW_URI_WILDCARDS": False,
    "REQUEST_APPROVAL_PROMPT": "auto",
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}

# Each web process keeps the tokens it read this long (gateway/api/auth.py says
# how revocations reach it at once); 0 reads every token from the database.
AUTH_TOKEN_CACHE_SECONDS = float(env("AUTH_TOKEN_CACHE_SECONDS", "5"))
# How long a revocation waits for every process to acknowledge that it dropped
# the token from its cache (gateway/api/auth.py publish_eviction).
AUTH_EVICTION_WAIT_S = float(env("AUTH_EVICTION_WAIT_S", "0.5"))

# The hot reads' cache (gateway/api/readcache.py): ETags from version counters
# in Redis, bumped after the commit of every change that alters an answer, and
# a per-process LRU of answers keyed by them. READ_CACHE_SECONDS bounds how long
# a process keeps an answer whatever the counters say (0 turns the cache and
# the version ETags off); READ_CACHE_ENTRIES bounds the LRU.
READ_CACHE_SECONDS = float(env("READ_CACHE_SECONDS", "15"))
READ_CACHE_ENTRIES = int(env("READ_CACHE_ENTRIES", "4096"))
# Whether a computed answer is also kept in Redis for the other processes (and
# instances) until READ_CACHE_SECONDS have passed.
READ_CACHE_SHARED = env_bool("READ_CACHE_SHARED", True)

# ---------------------------------------------------------------- rate limits
# Requests per window per OAuth client, by partner tier. A standard partner at
# 1,200/min is 20/s sustained; Black Friday peaks are 10-12x normal, which the
# "high" tier absorbs for the retailer's own channels.
RATE_LIMIT_WINDOW_SECONDS = int(env("RATE_LIMIT_WINDOW_SECONDS", "60"))
RATE_LIMIT_TIERS = {
    "standard": int(env("RATE_LIMIT_STANDARD", "1200")),
    "premium": int(env("RATE_LIMIT_PREMIUM", "6000")),
    "internal": int(env("RATE_LIMIT_INTERNAL", "60000")),
}
# Token requests per client and window; fails closed when Redis is down.
RATE_LIMIT_TOKEN_REQUESTS = int(env("RATE_LIMIT_TOKEN_REQUESTS", "120"))

# ---------------------------------------------------------------- admission control
# gateway/api/admission.py: a request stamped by the balancer (X-Request-Start)
# that waited longer than this for a thread is answered 503 "overloaded" with
# Retry-After (this many seconds, plus up to as many again of jitter) instead of
# being run late. Requests that finish a purchase or move an order may wait
# longer than the rest. From the Black Friday bench (docs/benchmarks.md): at
# three times the held rate, a 500 ms wait gave the admitted answers a p95 of
# 536 ms (7.6 % shed) and 350 ms a p95 of 390 ms (10.4 % shed), same code and
# machine; neither shed anything from 1x to 8x. 250 ms shed requests at the
# normal rate on a busy machine.
ADMISSION_ENABLED = env_bool("ADMISSION_ENABLED", True)
ADMISSION_WAIT_MS = float(env("ADMISSION_WAIT_MS", "350"))
ADMISSION_CHECKOUT_WAIT_MS = float(env("ADMISSION_CHECKOUT_WAIT_MS", "2000"))
# While a worker's queue stands (gateway/api/admission.py): every request over one interval waited
# past the target, and a standard request may wait only the standing budget.
ADMISSION_TARGET_MS = float(env("ADMISSION_TARGET_MS", "50"))
ADMISSION_INTERVAL_MS = float(env("ADMISSION_INTERVAL_MS", "250"))
ADMISSION_STANDING_WAIT_MS = float(env("ADMISSION_STANDING_WAIT_MS", "100"))
ADMISSION_RETRY_AFTER_S = int(env("ADMISSION_RETRY_AFTER_S", "2"))

IDEMPOTENCY_KEY_TTL_HOURS = 48

# ---------------------------------------------------------------- OpenAPI
SPECTACULAR_SETTINGS = {
    "TITLE": "Omnichannel Commerce Gateway API",
    "DESCRIPTION": (
        "One API for every channel of the retail network: shared partner inventory, "
        "click-and-collect, footfall and loyalty (programs, members and points, campaigns with "
        "budgets, coupon codes, quotes; `loyalty:manage`, `loyalty:redeem`, `loyalty:read`). Coupons on "
        "orders and till tickets are not served yet.\n\n"
        "Authenticate with OAuth 2.0 (`/oauth/token/`). Errors are RFC 9457 "
        "`application/problem+json`; lists use cursor pagination; retried writes take an "
        "`Idempotency-Key`; every response of a limited endpoint carries `RateLimit` and "
        "`RateLimit-Policy`."
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "OAUTH2_FLOWS": ["clientCredentials", "authorizationCode"],
    "OAUTH2_TOKEN_URL": "/oauth/token/",
    "OAUTH2_AUTHORIZATION_URL": "/oauth/authorize/",
    "OAUTH2_REFRESH_URL": "/oauth/token/",
    "OAUTH2_SCOPES": SCOPES,
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "commerce.models.OrderStatus",
        "OrderFulfilmentStatusEnum": "commerce.api.v1.serializers.FULFIL_TARGET_CHOICES",
        "SlotHoldStateEnum": "commerce.models.HoldState",
        "WebhookDeliveryStatusEnum": "partners.models.DeliveryStatus",
        "WebhookAttemptTriggerEnum": "partners.models.AttemptTrigger",
        "LocationKindEnum": "inventory.models.LocationKind",
        "StockSyncLineStatusEnum": "inventory.services.changes.LINE_STATUSES",
        "StockAdjustmentReasonEnum": "inventory.api.v1.serializers.ADJUSTMENT_REASONS",
        "SensorKindEnum": "footfall.models.SensorKind",
        "AnomalyKindEnum": "footfall.models.AnomalyKind",
        "AnomalyStatusEnum": "footfall.models.AnomalyStatus",
        "CalendarDayKindEnum": "footfall.models.CalendarDayKind",
        "CouponCodeKindEnum": "loyalty.models.CouponCode.Kind",
        "PointsMovementKindEnum": "loyalty.models.MovementKind",
        "RefusedCodeOutputReasonEnum": "loyalty.pricing.REASONS",
    },
    "DISABLE_ERRORS_AND_WARNINGS": False,
}

# ---------------------------------------------------------------- Celery
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
# How long a task taken by a worker may stay unacknowledged before Redis hands
# it to another worker (kombu's default: an hour, so a task whose worker was
# SIGKILLed waited an hour; issue defect 4). It must outlast both the longest
# countdown a task is queued with (webhook retries: up to 10 min,
# partners/services/delivery.py COUNTDOWN_LIMIT), or such tasks would be handed
# out again and again, and the longest run of an acks_late task (the
# resumable loyalty code jobs and model rebuilds, minutes), or a second worker
# would start the same run. 15 min holds both; the work that must not wait that
# long after a crash is swept from the database anyway (webhooks every 15 s,
# slots and holds every minute).
CELERY_VISIBILITY_TIMEOUT_S = int(env("CELERY_VISIBILITY_TIMEOUT_S", "900"))
# Running workers look for such overdue tasks every 10 s (kombu scans only
# every 10th sweep by default, so about every 100 s; a worker also looks once
# as it starts). The scan is one ZRANGE on the unacked index.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_S,
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT_S}
# A worker started while Redis is away waits for it rather than exiting
# (and Celery 6 reads only this setting at start-up).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_RETRY = True
# broker_connection_max_retries keeps Celery's 100: None ("forever") made a
# web process publishing the outbox doorbell hang while Redis was away
# (tests/partners/test_outbox_doorbell.py).
# Reconnects every second or two instead of kombu's 2, 4, ... 30 s backoff,
# which delayed webhooks 30-35 s after Redis came back (gateway/celery.py).
CELERY_WORKER_CONSUMER = "gateway.celery:QuickReconnectConsumer"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Threads, not prefork: in prefork children, Celery's Django fixup closes
# Django's connection pool before and after every task (celery/celery#10554,
# open in Celery 5.7), so every task opened a new PostgreSQL connection (a new
# backend, SCRAM authentication on both ends): 8.5 ms of worker CPU per webhook
# fan-out task against 1.8-1.9 ms with threads, whose tasks take a connection
# from the pool and give it back. The tasks wait on PostgreSQL, Redis and
# webhook receivers far more than they compute.
CELERY_WORKER_POOL = "threads"
# No task's result is kept unless its caller asks for it (``apply_async(
# ignore_result=False)``: the release command's --celery waits for its count).
# Kept, every task wrote its result to Redis for a day and every publisher
# subscribed to that result's channel: per webhook delivery a SET, a PUBLISH
# and a subscription nobody read.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Click-and-collect's timed work (slot release, hold expiry, no-shows) has a
# queue of its own, so it never waits behind a burst of webhook fan-out in the
# default queue: in the midnight bench the release task ran 19 s after its
# tick behind the rush's fan-out. A worker started without -Q consumes every
# queue listed here, taking from them in turn (bin/serve, the benchmarks).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [Queue("celery"), Queue("commerce")]
CELERY_TASK_ROUTES = {"commerce.tasks.*": {"queue": "commerce"}}
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "purge-idempotency-keys": {"task": "gateway.api.tasks.purge_idempotency_keys", "schedule": 3600.0},
    "clear-expired-oauth-tokens": {"task": "partners.tasks.clear_expired_tokens", "schedule": 3600.0},
    # Footfall: judge each store's recent hours (runs overlap harmlessly); send the
    # weekly and monthly reports of periods that ended and were not sent yet.
    "footfall-check-anomalies": {"task": "footfall.tasks.check_anomalies", "schedule": 900.0},
    "footfall-send-due-reports": {"task": "footfall.tasks.send_due_reports", "schedule": 3600.0},
    # Footfall: collected click-and-collect orders count as sales within this period.
    "footfall-fold-collected-orders": {"task": "footfall.tasks.fold_collected_orders", "schedule": 30.0},
    # Webhooks: fan out events whose after-commit dispatch was lost, queue due retries.
    "webhooks-sweep-due": {"task": "partners.tasks.webhooks_sweep_due", "schedule": 15.0},
    # Inventory: prove every stock level equals the sum of its ledger movements.
    "check-stock-ledger": {"task": "inventory.tasks.check_stock_ledger", "schedule": 6 * 3600.0},
    # Click-and-collect: slots open on the database clock (booking SQL), so a
    # tick only writes rows and the slots.released event; once a minute suffices.
    "release-pickup-slots": {"task": "commerce.tasks.release_pickup_slots", "schedule": 60.0},
    "expire-slot-holds": {"task": "commerce.tasks.expire_slot_holds", "schedule": 60.0},
    "mark-no-show-orders": {"task": "commerce.tasks.mark_no_show_orders", "schedule": 300.0},
    # Cross-sell: a new co-purchase model version from the collected orders, nightly
    # (02:30 UTC, before the European morning); the live version serves until it is built.
    "recommendations-rebuild-nightly": {
        "task": "commerce.recommendations.tasks.co_purchase_model_rebuild_nightly",
        "schedule": crontab(hour=2, minute=30),
    },
    # Loyalty: each program's nightly job (03:00 in its zone, catching up missed days),
    # reservations past their TTL, and the proof that points balances equal their movements.
    "loyalty-nightly": {"task": "loyalty.tasks.run_nightly", "schedule": 900.0},
    "loyalty-release-expired-reservations": {"task": "loyalty.tasks.release_expired_reservations", "schedule": 60.0},
    "loyalty-check-points-ledger": {"task": "loyalty.tasks.check_points_ledger", "schedule": 6 * 3600.0},
    # Loyalty: clearance drafts for each store's slow movers, for an operator to review on Monday
    # morning (04:00 UTC, before European stores open); once per ISO week per program and store.
    "loyalty-propose-slow-mover-campaigns": {
        "task": "loyalty.tasks.propose_slow_mover_campaigns",
        "schedule": crontab(day_of_week=1, hour=4, minute=0),
    },
}

# ---------------------------------------------------------------- logging
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "gateway.api.logs.RequestContextFilter"}},
    "formatters": {"json": {"()": "gateway.api.logs.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        # The report PDF printer logs each layout step at INFO.
        "weasyprint.progress": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

METRICS_TOKEN = env("METRICS_TOKEN")
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "gateway@localhost")

# Webhook targets must be https and public; local development and tests may
# allow loopback receivers explicitly.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)

# ---------------------------------------------------------------- footfall
# Hours younger than this are not judged by the anomaly notifier yet: devices
# push every 15 minutes and retry, so a fresh gap is usually data in transit.
FOOTFALL_ANOMALY_GRACE_MINUTES = int(env("FOOTFALL_ANOMALY_GRACE_MINUTES", "120"))

# ---------------------------------------------------------------- inventory
# Availability shows other parties' quantities above this cap as the cap
# (partners, shoppers), so exact stock of others is not leaked; the operator
# sees exact figures.
AVAILABILITY_QUANTITY_CAP = int(env("AVAILABILITY_QUANTITY_CAP", "20"))
