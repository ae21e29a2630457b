;; test: prog=p expect=60
(defstruct buf (n u32) (items (array u16 4)))
(defprog p (:type :xdp)
  (let ((b (make-buf)))
    (setf (buf-items b 0) 10 (buf-items b 1) 20 (buf-items b 3) 30)
    (+ (buf-items b 0) (buf-items b 1) (buf-items b 2) (buf-items b 3))))
