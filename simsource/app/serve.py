"""The script Streamlit runs for the teaching page (``simsource app``): it only calls
:func:`simsource.app.page.main`.

Streamlit runs its script as ``__main__``, and worker processes started meanwhile (the warm
pool of :mod:`simsource.experiment.pool`) import the main script again, as ``__mp_main__``.
This file is that script: imported in a worker it does nothing, so a worker starts without
importing Streamlit and the page (about a second each), and the pool is ready sooner after the
page loads.
"""

if __name__ == "__main__":
    from simsource.app.page import main

    main()
