# A Flask app for express.t, served as `hello:app` (module:callable).
import os

from flask import Flask, jsonify, request, url_for

import greeting

app = Flask(__name__)


@app.route('/')
def index():
    return greeting.TEXT


@app.route('/hello/<name>')
def hello(name):
    return f'Hello, {name}!'


@app.route('/info', methods=['GET', 'POST'])
def info():
    return jsonify(pid=os.getpid(), method=request.method,
                   link=url_for('hello', name='wsgi'),
                   server=request.environ.get('SERVER_SOFTWARE', ''),
                   length=len(request.get_data()))
