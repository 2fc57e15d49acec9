"""What gunicorn serves: ``gunicorn wsgi:app``."""

from tipline.app import create_app

app = create_app()
