(#\Spacey #\Foo #\a)
