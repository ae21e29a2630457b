(:type :array :key-size 4 :VALUE-SIZE 8)
(in-package #:whistler-loader-user)
#:Foo
