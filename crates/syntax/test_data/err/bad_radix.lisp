(#xZZ #b102 #o9 0xg1 #37r1 #x)
