(1+ 1- s>= s< << >> >>> +foo+ &rest &body &optional *x* %x - + / * <= >= /= a.b ...x)
(with-tcp pkt-count get-current-pid-tgid)
