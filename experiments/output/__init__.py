"""How results leave the program: atomic files and JSON (``files``), numbers as text and JSON (``numbers``),
PNG figures (``figures``) and the generated blocks of documents (``blocks``). Imports nothing of sd-env's."""
