(defmacro with-counter ((var map &key (key 0)) &body body)
  (let ((g (gensym "V")))
    `(let ((,g (getmap ,map ,key)))
       (when ,g
         (let ((,var ,g))
           ,@body)))))
