(a:b:c foo: :::x |unterminated)
