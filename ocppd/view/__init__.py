"""What the local display says: a view of the model, as plain pages.

``strings`` holds every text in every language; ``screens`` turns the facts of a
connector (a ``Scene``) into a ``hal.display.Page``; ``presenter`` follows the charger's
events, shows the pages, dims and blanks the panel and takes the buttons' presses.
The device itself (I2C, Pillow, luma) lives in ``hal/display.py`` and ``hal/buttons.py``.
"""
