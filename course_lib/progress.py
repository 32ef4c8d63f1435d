"""A progress bar that leaves the finished bar behind, not a frozen 0 %, in a saved notebook."""


def progress_bar(iterable, desc):
    """Iterate over `iterable` (which has a len) while showing a progress bar named `desc`.

    In a notebook the live bar is a widget; a saved notebook keeps only the text it was displayed
    with (0 %), so when the loop ends the display is replaced by the finished bar as text. Elsewhere
    it is tqdm's terminal bar.
    """
    from tqdm.auto import tqdm
    from tqdm.notebook import tqdm as notebook_tqdm
    if not issubclass(tqdm, notebook_tqdm):
        yield from tqdm(iterable, desc=desc, mininterval=1.0)
        return
    from IPython.display import display
    bar = notebook_tqdm(iterable, desc=desc, mininterval=1.0, display=False)
    handle = display(bar.container, display_id=True)
    try:
        yield from bar
    finally:
        bar.close()
        handle.update({"text/plain": str(bar)}, raw=True)
