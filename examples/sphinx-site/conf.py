# A course page built with Sphinx, showing two figures of neuroanim's built-in lesson.
#   sphinx-build -b html examples/sphinx-site OUT
# renders what changed into OUT/_static/neuroanim/ and writes the page OUT/index.html.
project = "How neurons learn"
author = "neuroanim"
extensions = ["neuroanim.sphinx"]

# The lesson whose figures `.. neuroanim::` names, relative to this file.
# Unset, it is the built-in lesson (`neuroanim init` writes it as lesson.toml).
# neuroanim_lesson = "lesson.toml"

numfig = True  # "Fig. 1" before each caption; :numref: links say it too
html_theme = "alabaster"
html_theme_options = {"page_width": "960px"}
