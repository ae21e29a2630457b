;; test: prog=p expect=13
;; defunion: one stack buffer usable through every member's accessors
(defstruct ip-part (ver u8) (tos u8) (len u16))
(defstruct udp-part (sport u16) (dport u16) (ulen u16) (sum u16))
(defunion packet-buf ip-part udp-part)
(defprog p (:type :xdp)
  (let ((b (make-packet-buf)))
    (setf (udp-part-ulen b) 5)
    (setf (ip-part-ver b) 4)
    (+ (sizeof packet-buf) (- (ip-part-ver b) 4) (udp-part-sport b) (- (udp-part-ulen b) 4))))
