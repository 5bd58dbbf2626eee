# Jinja2 templates of symstride (LaTeX documents, fragments, generated code).
# Installed as the package `symstride.templates`; loaded by symstride.render.templates.
