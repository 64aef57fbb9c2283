TEXT = 'first version'
