(defmacro twice (x) `(* 2 ,x))
(defprog p (:type :xdp) 1)
