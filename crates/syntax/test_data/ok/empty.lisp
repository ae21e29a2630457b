; nothing but comments
#| and this |#
