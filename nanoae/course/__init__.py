"""The course around the chapter notebooks: running them, and publishing them.

The notebooks in ``notebooks/`` are the one source of the course; this package
turns them into things to hand out.

| file | what it does |
| --- | --- |
| ``execute.py`` | runs one notebook headless with some of its parameters changed, keeps its figures |
| ``render.py`` | runs every chapter and writes the readable edition: one HTML page per chapter and an index |
| ``editions.py`` | the answers between nbgrader's markers: the student edition without them, the exercise functions of a notebook |
| ``guide.py`` | each chapter's facts (title, time, exercises, points), an edition's README and the instructors' guide |
| ``build.py`` | ``nanoae course build`` (an edition in a folder) and ``nanoae course grade`` (a submitted notebook's points) |

Building and grading need only the base install. ``execute`` and ``render`` need the ``course`` extra (nbclient, nbformat,
nbconvert, ipykernel): ``pip install -e ".[course]"``. This file imports
neither, so the rest of the package works without them.
"""
