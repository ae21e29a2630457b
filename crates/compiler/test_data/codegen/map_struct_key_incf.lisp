;; test: prog=p expect=2
;; test: prog=p expect=2
;; map: flows key=0a000001c0a80001500001bb value=0200000000000000
;; a 12-byte key goes through the stack transparently
(defstruct flow (src u32) (dst u32) (sport u16) (dport u16))
(defmap flows :type :hash :key-size 12 :value-size 8 :max-entries 64)
(defprog p (:type :xdp)
  (let ((k (make-flow)))
    (setf (flow-src k) #x0100000a
          (flow-dst k) #x0100a8c0
          (flow-sport k) #x0050
          (flow-dport k) #xbb01)
    (incf (getmap flows k))
    XDP_PASS))
