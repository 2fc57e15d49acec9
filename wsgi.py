"""What gunicorn serves: ``gunicorn wsgi:app``."""

from tipline import create_app

app = create_app()
