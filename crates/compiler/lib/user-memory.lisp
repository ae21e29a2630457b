;;;; Bounded loops over user-space arrays: `do-user-ptrs` (an array of pointers) and
;;;; `do-user-array` (an array of scalars or structs), reading each element with
;;;; `probe-read-user` into a stack buffer. The loop runs MAX-COUNT times at most (a compile-time
;;;; constant, so the verifier sees the bound); elements at or past COUNT, and elements whose read
;;;; fails, are skipped.

(defun %user-loop (index max-count count element-size base buffer body)
  "The loop shared by the `do-user-*` macros: BODY runs for each INDEX below COUNT (evaluated
once) whose ELEMENT-SIZE bytes at BASE + INDEX * ELEMENT-SIZE were read into BUFFER."
  (let ((n (%fresh "count"))
        (start (%fresh "base")))
    `(let ((,n ,count)
           (,start ,base))
       (dotimes (,index ,max-count)
         (when (and (< ,index ,n)
                    (= (probe-read-user ,buffer ,element-size
                                        (+ ,start (* ,index ,element-size)))
                       0))
           ,@body)))))

(defmacro do-user-ptrs ((ptr-var base count max-count &key (index (%fresh "i"))) &body body)
  "(do-user-ptrs (PTR-VAR BASE COUNT MAX-COUNT [:index I]) BODY...)
Walks the user-space array of 8-byte pointers at BASE: for each of the first COUNT elements
(at most MAX-COUNT, a constant) that reads successfully and is not null, binds PTR-VAR to it
(and I to its index) and runs BODY."
  (let ((buffer (%fresh "buffer")))
    `(let ((,buffer (struct-alloc 8)))
       ,(%user-loop index max-count count 8 base buffer
                    `((let ((,ptr-var (load u64 ,buffer 0)))
                        (when (/= ,ptr-var 0)
                          ,@body)))))))

(defmacro do-user-array ((var type base count max-count &key (index (%fresh "i"))) &body body)
  "(do-user-array (VAR TYPE BASE COUNT MAX-COUNT [:index I]) BODY...)
Walks the user-space array of TYPE elements at BASE: for each of the first COUNT elements (at
most MAX-COUNT, a constant) that reads successfully, runs BODY with I bound to its index. For a
scalar TYPE (u8...u64, i8...i64) VAR is the element's value; for a struct TYPE VAR points to a
stack copy of the element, overwritten by each iteration."
  (let ((size (%scalar-size type)))
    (if size
        (let ((buffer (%fresh "buffer")))
          `(let ((,buffer (struct-alloc 8)))
             ,(%user-loop index max-count count size base buffer
                          `((let ((,var (load ,type ,buffer 0)))
                              ,@body)))))
        `(let ((,var (struct-alloc (sizeof ,type))))
           ,(%user-loop index max-count count `(sizeof ,type) base var body)))))
