/*
 * filewrapper.c: the wsgi.file_wrapper type (PEP 3333 "Optional
 * Platform-Specific File Handling"), also mod_wsgi.FileWrapper.
 *
 * The object remembers the file-like object and block size, iterates it in
 * blocks when it has to, and closes it.  Sending a real file through
 * Apache's file buckets (sendfile) is output.c's job; it asks here for
 * the file-like object.  Each interpreter has its own type made from the
 * spec below (pymodule.c); the application calls it to make a wrapper.
 */
#include "py.h"

typedef struct {
    PyObject_HEAD
    PyObject *filelike;
    Py_ssize_t blksize;
} wsl_py_file_wrapper;

static PyObject *file_wrapper_new(PyTypeObject *type, PyObject *args,
                                  PyObject *kwds)
{
    static char *kwlist[] = { "filelike", "blksize", NULL };
    PyObject *filelike;
    Py_ssize_t blksize = 8192;
    wsl_py_file_wrapper *self;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|n:file_wrapper", kwlist,
                                     &filelike, &blksize))
        return NULL;
    if (blksize <= 0) {
        PyErr_SetString(PyExc_ValueError, "blksize must be positive");
        return NULL;
    }
    if (!(self = (wsl_py_file_wrapper *)type->tp_alloc(type, 0)))
        return NULL;
    Py_INCREF(filelike);
    self->filelike = filelike;
    self->blksize = blksize;
    return (PyObject *)self;
}

/*
 * Garbage collected: the file-like object is the application's and may
 * refer back to its wrapper.  No tp_clear, so filelike is never NULL: the
 * collector breaks such a cycle at the other object (a Python object's
 * __dict__), as it does for a tuple.
 */
static int file_wrapper_traverse(wsl_py_file_wrapper *self, visitproc visit,
                                 void *arg)
{
    Py_VISIT(Py_TYPE(self));    /* a heap type's instances hold it */
    Py_VISIT(self->filelike);
    return 0;
}

static void file_wrapper_dealloc(wsl_py_file_wrapper *self)
{
    PyTypeObject *type = Py_TYPE(self);

    PyObject_GC_UnTrack(self);
    Py_DECREF(self->filelike);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static PyObject *file_wrapper_iternext(wsl_py_file_wrapper *self)
{
    PyObject *data = PyObject_CallMethod(self->filelike, "read", "n",
                                         self->blksize);

    if (!data)
        return NULL;
    if (PyBytes_Check(data) && PyBytes_GET_SIZE(data) == 0) {
        Py_DECREF(data);
        return NULL;    /* StopIteration */
    }
    return data;
}

static PyObject *file_wrapper_close(wsl_py_file_wrapper *self,
                                    PyObject *unused)
{
    if (PyObject_HasAttrString(self->filelike, "close"))
        return PyObject_CallMethod(self->filelike, "close", NULL);
    Py_RETURN_NONE;
}

static PyMethodDef file_wrapper_methods[] = {
    { "close", (PyCFunction)file_wrapper_close, METH_NOARGS,
      "Close the wrapped file." },
    { NULL }
};

static PyType_Slot file_wrapper_slots[] = {
    { Py_tp_new, file_wrapper_new },
    { Py_tp_dealloc, file_wrapper_dealloc },
    { Py_tp_traverse, file_wrapper_traverse },
    { Py_tp_doc, "wsgi.file_wrapper(filelike, blksize=8192)" },
    { Py_tp_iter, PyObject_SelfIter },
    { Py_tp_iternext, file_wrapper_iternext },
    { Py_tp_methods, file_wrapper_methods },
    { 0, NULL }
};

/* Not a base type and immutable, as the static type was: output.c's
 * exact type check is what decides that a file may be sent whole. */
PyType_Spec wsl_py_file_wrapper_spec = {
    .name = "mod_wsgi_lite.FileWrapper",
    .basicsize = sizeof(wsl_py_file_wrapper),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_HAVE_GC,
    .slots = file_wrapper_slots,
};

PyObject *wsl_file_wrapper_filelike(PyObject *wrapper)
{
    return ((wsl_py_file_wrapper *)wrapper)->filelike;
}
