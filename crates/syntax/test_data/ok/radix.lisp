(#x10 #XfF #x-10 -#x10 #b1010 #B-11 #o777 #36rZ #16r-ff)
(0x10 0XFF -0x10 +0x1f 0xffffffffffffffff)
