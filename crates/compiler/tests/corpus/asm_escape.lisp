;; test: prog=p expect=49
;; (asm OPCODE DST SRC OFF IMM) emits one raw instruction; its value is r0 afterwards
(defprog p (:type :xdp)
  (let ((a (asm #xb7 0 0 0 42)))
    (+ a (asm #xb7 0 0 0 7))))
