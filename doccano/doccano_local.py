"""Django settings for the project's local doccano (loaded by its gunicorn and its
management commands from .venv-doccano; see pipeline/doccano/server.py).

doccano's production settings, with two changes:

- Celery tasks (dataset import and export) run inside the web process, and their results
  are stored so that the task-status API (polled by doccano-client) finds them: no broker
  and no worker process to start or stop.
- filepond's temporary uploads go to the data folder, not into the installed package.

The database and the media folder come from DATABASE_URL and MEDIA_ROOT, which the
server module sets to the data folder (data/doccano/ by default).
"""
import os

from config.settings.production import *  # noqa: F401,F403

CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_STORE_EAGER_RESULT = True

DJANGO_DRF_FILEPOND_UPLOAD_TMP = os.path.join(os.environ["MEDIA_ROOT"], "filepond-temp-uploads")
DJANGO_DRF_FILEPOND_ALLOW_EXTERNAL_UPLOAD_DIR = True
