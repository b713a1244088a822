"""How results leave the program: atomic files and JSON (``files``), numbers as text and JSON (``numbers``),
figures as PNG, PDF or SVG (``figures``), the generated blocks of documents (``blocks``) and the progress bar of
long jobs on standard error (``progress``). Imports nothing of sd-env's but its errors (``sd_env.errors``)."""
