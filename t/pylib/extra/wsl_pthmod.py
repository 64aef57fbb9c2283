# Importable only if the .pth file in t/pylib was processed (addsitedir).
MARKER = 'from a .pth file'
